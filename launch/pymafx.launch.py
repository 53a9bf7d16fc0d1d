"""Launch the pymafx node on a camera, optionally with RViz.

ros2 launch pymafx_ros pymafx.launch.py image:=/camera/color/image_raw \
    camera_info:=/camera/color/camera_info fixed_frame:=camera_color_optical_frame rviz:=true
"""

# ruff would sort `launch` as first-party (this repository has a launch/ folder).
from launch import LaunchDescription  # noqa: I001
from launch.actions import DeclareLaunchArgument
from launch.conditions import IfCondition
from launch.substitutions import LaunchConfiguration, PathJoinSubstitution
from launch_ros.actions import Node
from launch_ros.substitutions import FindPackageShare


def generate_launch_description() -> LaunchDescription:
    share = FindPackageShare("pymafx_ros")
    image = LaunchConfiguration("image")
    namespace = LaunchConfiguration("namespace")
    arguments = [
        DeclareLaunchArgument(
            "image",
            default_value="/camera/color/image_raw",
            description="sensor_msgs/Image topic (its '/compressed' sibling with "
            "input_transport: compressed)",
        ),
        DeclareLaunchArgument(
            "camera_info",
            default_value="/camera/color/camera_info",
            description="sensor_msgs/CameraInfo topic of the same camera",
        ),
        DeclareLaunchArgument(
            "params_file",
            default_value=PathJoinSubstitution([share, "config", "pymafx.yaml"]),
            description="YAML parameter file (ros__parameters form)",
        ),
        DeclareLaunchArgument(
            "namespace", default_value="", description="namespace of the node (and of RViz)"
        ),
        DeclareLaunchArgument(
            "rviz", default_value="false", description="also start RViz with config/pymafx.rviz"
        ),
        DeclareLaunchArgument(
            "fixed_frame",
            default_value="camera_color_optical_frame",
            description="RViz fixed frame: the camera's optical frame (the images' frame_id)",
        ),
    ]
    node = Node(
        package="pymafx_ros",
        executable="pymafx_node",
        name="pymafx",
        namespace=namespace,
        parameters=[LaunchConfiguration("params_file")],
        remappings=[
            ("image", image),
            ("image/compressed", [image, "/compressed"]),
            ("camera_info", LaunchConfiguration("camera_info")),
        ],
        output="screen",
        emulate_tty=True,
    )
    rviz = Node(
        package="rviz2",
        executable="rviz2",
        name="rviz2",
        namespace=namespace,
        arguments=[
            "-d",
            PathJoinSubstitution([share, "config", "pymafx.rviz"]),
            "-f",
            LaunchConfiguration("fixed_frame"),
        ],
        condition=IfCondition(LaunchConfiguration("rviz")),
        output="screen",
    )
    return LaunchDescription([*arguments, node, rviz])
